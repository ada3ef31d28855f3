"""The Appeals screen: the docket, the hearing officer's workspace, its dialogs and widgets."""
