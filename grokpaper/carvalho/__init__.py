"""carvalho"""
