"""Hub blueprints: the signed JSON sync API, clerk login, and the clerk pages."""
