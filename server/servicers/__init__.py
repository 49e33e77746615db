"""gRPC servicers: parse the request, call one domain function, map the result."""
