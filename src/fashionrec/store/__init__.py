"""fashionrec.store"""
