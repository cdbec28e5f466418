"""The course's own views, on top of the sandbox's AWS: nothing here emulates AWS.

- ``magic``: ``%%lambda``, a notebook cell deployed as a Lambda function;
- ``diagram``: Step Functions workflows and executions drawn (Mermaid, text elsewhere);
- ``architecture``: the live sandbox as a service map, and one event's path on it;
- ``pricing``: Lambda's bill from the sandbox's REPORT lines, and a calculator;
- ``quiz``: predict-then-run questions in the lessons, with immediate feedback;
- ``lab``: ``make lab``'s JupyterLab launcher; ``workspace``: ``course workspace``.

Each reads the sandbox through boto3 and the client (``sandbox.client``), as a learner could.
"""
