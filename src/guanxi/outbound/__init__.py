"""Outbound requests to addresses that users type (alert webhooks and the like).

Every such request goes through ``outbound.client.OutboundClient``: it resolves the name
once, refuses addresses that are not on the public internet (``outbound.addresses``),
connects to the address it checked, follows redirects itself and checks each hop, and turns
every refusal or network failure into one message that tells nothing about the network
behind the server. Capabilities take it from here, never from each other.
"""
