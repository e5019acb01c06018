"""A FastAPI backend whose routes are protected by Tessera's access tokens."""
