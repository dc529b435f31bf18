// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {Bits} from "./Bits.sol";

/// @title ClientSet — sets of client ids as FLTask stores them: bit `id % 256` of word `id / 256`
/// @dev The canonical order of a set is ascending id.
library ClientSet {
    /// @notice The number of ids in the set `words`.
    /// @param words a bitmap of client ids
    /// @return c how many ids it holds
    function count(uint256[] memory words) internal pure returns (uint256 c) {
        for (uint256 w = 0; w < words.length; ++w) c += Bits.popcount(words[w]);
    }

    /// @dev The ids of `words`, ascending.
    function toIds(uint256[] memory words) internal pure returns (uint256[] memory ids) {
        ids = new uint256[](count(words));
        uint256 k = 0;
        for (uint256 w = 0; w < words.length; ++w) {
            for (uint256 word = words[w]; word != 0; word &= word - 1) ids[k++] = w * 256 + Bits.lowestBit(word);
        }
    }

    /// @dev The bitmap of `ids` (any order), as short as its highest id allows.
    function toWords(uint256[] memory ids) internal pure returns (uint256[] memory words) {
        uint256 highest = 0;
        for (uint256 i = 0; i < ids.length; ++i) {
            if (ids[i] > highest) highest = ids[i];
        }
        words = new uint256[](ids.length == 0 ? 0 : highest / 256 + 1);
        for (uint256 i = 0; i < ids.length; ++i) {
            words[ids[i] / 256] |= 1 << (ids[i] % 256);
        }
    }

    /// @dev Whether two bitmaps hold the same ids (trailing zero words do not count).
    function equal(uint256[] memory a, uint256[] memory b) internal pure returns (bool) {
        uint256 n = a.length > b.length ? a.length : b.length;
        for (uint256 w = 0; w < n; ++w) {
            if ((w < a.length ? a[w] : 0) != (w < b.length ? b[w] : 0)) return false;
        }
        return true;
    }

    /// @dev Whether the id list `ids` holds `id`.
    function has(uint256[] memory ids, uint256 id) internal pure returns (bool) {
        for (uint256 i = 0; i < ids.length; ++i) {
            if (ids[i] == id) return true;
        }
        return false;
    }
}
