// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title Sort — in-place sorts of the short memory arrays a round works on
/// @dev Insertion sorts: few steps for the few entries of a committee or a round's scores, none
/// of them allocating.
library Sort {
    /// @notice Sort `values` ascending, in place.
    /// @param values the array to sort
    function sort(uint256[] memory values) internal pure {
        for (uint256 i = 1; i < values.length; ++i) {
            uint256 v = values[i];
            uint256 j = i;
            for (; j > 0 && values[j - 1] > v; --j) values[j] = values[j - 1];
            values[j] = v;
        }
    }

    /// @notice Sort `values` ascending, in place.
    /// @dev Each element of a memory array takes a whole word, a uint32 zero-extended, so the
    /// array is sorted as the uint256[] it is in memory.
    /// @param values the array to sort
    function sort(uint32[] memory values) internal pure {
        uint256[] memory words;
        assembly ("memory-safe") {
            words := values
        }
        sort(words);
    }

    /// @notice Sort `values` in place by `keys` (`keys[i]` is the key of `values[i]`; the two
    /// arrays are reordered alike): by ascending key, or descending if `descending`, and values
    /// with equal keys by ascending value.
    /// @param values the array to sort
    /// @param keys the key of each value, as long as `values`
    /// @param descending whether the highest key comes first
    function sortByKey(uint256[] memory values, uint256[] memory keys, bool descending) internal pure {
        for (uint256 i = 1; i < values.length; ++i) {
            uint256 v = values[i];
            uint256 k = keys[i];
            uint256 j = i;
            for (; j > 0 && _before(k, v, keys[j - 1], values[j - 1], descending); --j) {
                values[j] = values[j - 1];
                keys[j] = keys[j - 1];
            }
            values[j] = v;
            keys[j] = k;
        }
    }

    /// @dev Whether the value `va` with key `ka` goes before the value `vb` with key `kb`.
    function _before(uint256 ka, uint256 va, uint256 kb, uint256 vb, bool descending) private pure returns (bool) {
        if (ka != kb) return descending ? ka > kb : ka < kb;
        return va < vb;
    }
}
