/**
 * Public record types of the packet layer. These are the contract with the CA decoder:
 * change them only together with its users.
 */
export {};
//# sourceMappingURL=types.js.map