/** A reconstruction counts as a success when its MSE is below this (the DLG/iDLG papers' threshold, in [0,1] pixels). */
export const SUCCESS_MSE = 1e-3;
