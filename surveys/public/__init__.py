"""What customers see: the survey, the thank-you page, unsubscribing."""
