"""Where the runtime keeps what outlives a call: authentications and their tokens, mailbox
budgets and trigger state. Files and this process by default; Redis when workers share it."""
