"""What both areas share: sessions, sign-in, flash messages, redirects and error pages."""
