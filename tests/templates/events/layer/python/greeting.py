def greet(source):
    return f"hello from {source}"
