"""Test tooling kept out of the product: what only tests (and benches) may switch on."""
