# The version of the xipc package; `make` keeps it equal to Cargo.toml's.
__version__ = "0.2.0"
