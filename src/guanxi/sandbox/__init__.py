"""A local stand-in for the platforms' official APIs, for the demo and the tests.

It speaks the documented surfaces (paths, parameters, response and error shapes, OAuth and
token endpoints, token expiry, rate limits) of Weibo v2, the WeChat Official Account API
and the Douyin open platform on localhost, and can inject faults. The real connectors talk
to it by base URL only: nothing in a connector knows it is talking to the sandbox.
"""
