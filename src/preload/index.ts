// Placeholder: the contract-driven API arrives with the desktop-app issue.
export {}
