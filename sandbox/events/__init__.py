"""EventBridge: what the sandbox adds to moto's EventBridge. So far the delivery to a rule's
targets (``targets.py``)."""
