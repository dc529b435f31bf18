// SPDX-License-Identifier: MIT
pragma solidity 0.8.24;

import {IERC721Receiver} from "@openzeppelin/contracts/token/ERC721/IERC721Receiver.sol";
import {IModelToken} from "../../interfaces/IModelToken.sol";

/// @title TaskImpersonator — TEST ONLY: not an FLTask, but answers FLTask's views as told
/// @notice Its round 1 "finalized" `modelHash` with the given clients (ids 1..n) and weights, and it
/// is its own aggregator, so it can mint in a ModelToken: for the tests of what a token does not
/// prove (the task's code is not checked) and of a contract aggregator re-entering `mint` from
/// `onERC721Received`.
contract TaskImpersonator is IERC721Receiver {
    bytes32 public immutable modelHash;
    /// @notice Whether the next `onERC721Received` mints round 1 again.
    bool public reenter;
    address[] private _clients;
    uint256[] private _weights;

    constructor(bytes32 model, address[] memory clients, uint256[] memory weights) {
        modelHash = model;
        _clients = clients;
        _weights = weights;
    }

    /// @notice Mint round 1's token in `token`; with `again`, mint it once more from `onERC721Received`.
    function mintIn(IModelToken token, bool again) external returns (uint256) {
        reenter = again;
        return token.mint(address(this), 1, _allWeights(), 0);
    }

    function onERC721Received(address, address, uint256, bytes calldata) external returns (bytes4) {
        if (reenter) {
            reenter = false;
            IModelToken(msg.sender).mint(address(this), 1, _allWeights(), 0);
        }
        return IERC721Receiver.onERC721Received.selector;
    }

    // --- FLTask's views, as ModelToken reads them ---------------------------------------------------

    function aggregator() external view returns (address) {
        return address(this);
    }

    function roundInfo(uint256 round)
        external
        view
        returns (uint8 state, bytes32 startModelHash, bytes32 finalModelHash, uint256, uint256, uint256)
    {
        if (round != 1) return (0, bytes32(0), bytes32(0), 0, 0, 0);
        uint256 n = _clients.length;
        return (2, bytes32(uint256(1)), modelHash, n, n, n);
    }

    function roundRule(uint256) external view returns (bytes32 weightsHash, bytes32 ruleHash) {
        return (keccak256(abi.encodePacked(_weights)), bytes32(uint256(1)));
    }

    function participantsOf(uint256) external view returns (uint256[] memory words) {
        words = new uint256[](1);
        words[0] = ((uint256(1) << (_clients.length + 1)) - 1) & ~uint256(1); // ids 1..n
    }

    function clientCount() external view returns (uint256) {
        return _clients.length;
    }

    function clientAt(uint256 id) external view returns (address) {
        return _clients[id - 1];
    }

    function _allWeights() private view returns (uint256[][] memory weights) {
        weights = new uint256[][](1);
        weights[0] = _weights;
    }
}
