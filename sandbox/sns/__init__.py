"""SNS: what the sandbox adds to moto's SNS. So far the check of each delivery against the
endpoint's policy (``subscriptions.py``)."""
