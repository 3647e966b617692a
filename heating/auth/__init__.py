"""Users, roles over areas, permissions and login."""
