"""Review: a project's reviewers, the review queue and the verdicts (server.lifecycle.review
decides the moves; every review write is in server.review.verdicts)."""
