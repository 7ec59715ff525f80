"""Flask-WTF forms, one module per area; labels and messages in Simplified Chinese."""
