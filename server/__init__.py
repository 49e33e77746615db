"""The gRPC server: servicers (thin) over domain services (the rules) over storage."""
