"""lisakib"""
