"""CloudFormation and AWS SAM in the sandbox: moto's CloudFormation engine, with the SAM
transform (by AWS's own translator), validation before anything is made, each resource's events,
the rollback of a failed stack, and the resource types SAM expands to that moto lacks.

The server applies these through rows of sandbox/seams.py (``stacks.py``, ``resources.py``,
``transform.py``, which import moto: the server's side only); the notebook deploys a template
with ``sandbox.deploy`` (sandbox/deployment.py), which reads templates with ``template.py`` and
packages their code as ``sam build`` and ``sam package`` do.
"""
