"""One router per feature; each route validates, calls the service and shapes the response."""
