"""Form widgets: the renderer for any template, consent and the body diagram."""
