/** CVR numbers: 8 digits whose weighted sum (2,7,6,5,4,3,2,1) is divisible by 11. */
const WEIGHTS = [2, 7, 6, 5, 4, 3, 2, 1];

/** KOMBIT's test municipality; it fails the check but is what the external test environment uses. */
export const KOMBIT_TEST_CVR = "11111111";

export function isValidCvr(cvr: string): boolean {
  if (!/^[0-9]{8}$/.test(cvr)) return false;
  let sum = 0;
  for (let i = 0; i < 8; i++) sum += WEIGHTS[i]! * Number(cvr[i]);
  return sum % 11 === 0;
}
