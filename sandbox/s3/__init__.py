"""S3: what the sandbox adds to moto's S3. So far the static website endpoint
(``website.py``), served by the sandbox's server for the serverless web application that API
Gateway's lesson builds; the API Gateway extension installs its route."""
