"""What happens to new items: moderation rules, assignment, priority and response targets."""
