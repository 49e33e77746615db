"""REST gateway: JSON over HTTP translated to and from the gRPC API."""
