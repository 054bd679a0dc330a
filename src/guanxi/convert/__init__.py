"""Conversions ("convert"): what the brand's posts, campaigns and KOLs bring into its shops,
through identifiers guanxi can see: tracked links first."""
