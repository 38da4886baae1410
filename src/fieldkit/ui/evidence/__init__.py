"""Evidence widgets: the case panel with intake and thumbnails, and item details."""
