"""fashionrec.web"""
