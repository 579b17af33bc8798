"""Sites and sensors: scheduled audits across many sites on Celery (see docs/deployment.md)."""
