"""Saving and loading: `.keras` archives, `.weights.h5`, legacy `.h5`, JSON, checkpoint
folders, and Keras object (de)serialization."""
