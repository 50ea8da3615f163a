"""The python-zeroconf listener both peer scripts browse with.

It records the instance names each browsed type adds (and, when asked,
removes) under that type, so a script reports what it saw per type.
"""


class Listener:
    def __init__(self, type_, found, removed=None):
        self.type_ = type_
        self.found = found
        self.removed = removed

    def add_service(self, zc, type_, name):
        self.found[self.type_].append(name)

    def update_service(self, zc, type_, name):
        pass

    def remove_service(self, zc, type_, name):
        if self.removed is not None:
            self.removed[self.type_].append(name)
