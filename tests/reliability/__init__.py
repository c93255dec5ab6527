"""Fault injection, hostile input and crash safety."""
