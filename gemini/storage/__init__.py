"""Files kept outside the database: the content-addressed blob store of run artifacts."""
