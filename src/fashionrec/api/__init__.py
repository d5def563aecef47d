"""fashionrec.api"""
