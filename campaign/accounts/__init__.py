"""Users, roles, web sessions, API tokens and the login throttle."""
