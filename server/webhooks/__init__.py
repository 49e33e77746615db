"""Project webhooks: the events (events.py), their rules (rules.py), the service
(service.py) and their delivery (delivery.py)."""
