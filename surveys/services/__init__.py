"""The business rules. Each function takes a Session, changes state and flushes;
none commits, renders HTML or reads the request: the caller does that, once."""
