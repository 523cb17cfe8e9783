"""What owners see: logging in, their inbox of cases, a case, a customer."""
