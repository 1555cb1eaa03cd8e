"""The hub's rules: plain Python over the models, raising domain errors with Chinese messages.

Views (HTML and API) stay thin and never decide anything these modules decide.
"""
