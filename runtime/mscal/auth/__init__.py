"""Authentications: the form, token sources (OAuth 2.0 through authlib, fixed, a platform's
callable), certificates, the bearer flow that attaches tokens, the store and interactive
sign-in."""
