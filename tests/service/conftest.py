"""The service tests' fixtures: mock_vidicore, the operator, a callback bucket, running services (service_fixtures)."""

from service_fixtures import callback_bucket, mock_url, operator, start_service

__all__ = ["callback_bucket", "mock_url", "operator", "start_service"]
