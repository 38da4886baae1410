"""PDF reports: the case file for lawyers and the NPM visit report (reportlab, embedded fonts)."""
