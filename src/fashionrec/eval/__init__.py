"""fashionrec.eval"""
