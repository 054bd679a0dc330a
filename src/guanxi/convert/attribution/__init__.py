"""Attribution: which touches an order's revenue is credited to, under each model."""
