"""The reliability tests' fixtures: the service ones (service_fixtures), fault proxies (faults_a),
services as child processes or in process (faults_b)."""

from faults_a import s3_proxy, vidicore_proxy
from faults_b import serve, service_app
from service_fixtures import callback_bucket, mock_url, operator, start_service

__all__ = ["callback_bucket", "mock_url", "operator", "s3_proxy", "serve", "service_app", "start_service",
           "vidicore_proxy"]
