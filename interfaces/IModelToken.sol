// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";

/// @title IModelToken — an ERC-721 for a finalized global model of an FL task
/// @notice A token is the token of one finalized round of one task: at most one token per
/// (task, round), minted only by that task's aggregator. It records what the task's chain records
/// say about that round's model: its hash (the global model the round finalized), its
/// contributors with their contribution weights (the aggregation weights summed over rounds
/// 1..round, each round's weights checked against the hash the task recorded at finalize) and,
/// for those contributors that watermarked the model, the commitment to their watermark key.
///
/// What a token proves: the task contract at `task` finalized `modelHash` in round `round`, with
/// these contributors and weights, and its aggregator minted the token.
/// What it does not prove: that the task is the first, or the only one, to produce the model.
/// Anyone can deploy a task of their own and finalize any model hash in it (a copy of someone
/// else's model, or just its hash), so several tokens may name the same model hash, each naming
/// its own task. A buyer decides which task it trusts: it checks the task's address, that the
/// contract there is the FLTask code, and the task's config hash (the experiment it ran); and,
/// for a model file, the watermarks of the token's owners. Nor does the token check the task's
/// code: a contract that merely answers FLTask's views can mint a token claiming anything, which
/// is why the task, not the token, is what a buyer checks.
interface IModelToken is IERC721 {
    /// @notice Token `tokenId` was minted for `modelHash`, the model of round `round` of `task`.
    /// @dev `modelHash` is indexed: the tokens naming a model hash (one per task and round that
    /// finalized it) are the `ModelMinted` logs with that topic.
    event ModelMinted(
        uint256 indexed tokenId,
        address indexed task,
        uint256 round,
        bytes32 indexed modelHash,
        uint256 contributors,
        uint256 totalWeight,
        uint256 royaltyBps
    );

    /// @notice `caller` is not the aggregator of `task`.
    error NotTaskAggregator(address task, address caller);
    /// @notice Round `round` of `task` is not finalized.
    error RoundNotFinalized(address task, uint256 round);
    /// @notice Round `round` of `task` finalized the model it started from (`modelHash`): that
    /// model is an earlier round's, mint that round.
    error ModelUnchanged(address task, uint256 round, bytes32 modelHash);
    /// @notice Round `round` of `task` already has its token, `tokenId`.
    error AlreadyMinted(address task, uint256 round, uint256 tokenId);
    /// @notice The weights given for round `round` are not those the task recorded at finalize.
    error WeightsMismatch(uint256 round);
    error LengthMismatch(uint256 expected, uint256 given);
    /// @notice No client has a positive weight in rounds 1..`round` of `task`.
    error NoContributors(address task, uint256 round);
    error RoyaltyTooHigh(uint256 royaltyBps, uint256 maximum);
    /// @notice Round `round` of `task` has no token.
    error NoToken(address task, uint256 round);

    /// @notice Mint, to the caller, the token of the global model of the finalized round `round` of `task`.
    /// @dev Only the task's aggregator; once per (task, round). Every round 1..`round` must be
    /// finalized (its recorded weights hash is checked), and round `round` must have changed the
    /// model (a round that kept its start model, such as one without participants, has no token
    /// of its own: the model is the earlier round's, whose token it would duplicate).
    /// @param weights the weights of every round 1..`round`, as each was finalized (ascending client id)
    /// @param royaltyBps the share of a resale price, in basis points, paid to the contributors
    /// @return tokenId the new token
    function mint(address task, uint256 round, uint256[][] calldata weights, uint256 royaltyBps)
        external
        returns (uint256 tokenId);

    /// @notice The task, round, model hash, total contribution weight and royalty of token `tokenId`.
    function modelOf(uint256 tokenId)
        external
        view
        returns (address task, uint256 round, bytes32 modelHash, uint256 totalWeight, uint256 royaltyBps);

    /// @notice The contributors of token `tokenId` (ascending client id), their weights and their
    /// watermark key commitments (zero for a contributor that did not watermark).
    function contributorsOf(uint256 tokenId)
        external
        view
        returns (address[] memory accounts, uint256[] memory weights, bytes32[] memory watermarks);

    /// @notice The token of round `round` of `task`; reverts `NoToken` if none was minted.
    function tokenOf(address task, uint256 round) external view returns (uint256);
}
