// SPDX-License-Identifier: MIT
pragma solidity 0.8.24;

import {PullPayment} from "@openzeppelin/contracts/security/PullPayment.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/security/ReentrancyGuard.sol";
import {IModelMarketplace} from "../interfaces/IModelMarketplace.sol";
import {IModelToken} from "../interfaces/IModelToken.sol";

/// @title ModelMarketplace — trading tokenized models after both sides agree on the price
/// @notice Payments are pulled, never pushed: a sale only credits the payees in OpenZeppelin's
/// escrow (PullPayment), and each payee withdraws on its own, so no payee can block or re-enter
/// a sale. A contributor's part of an amount A is floor(A·W_i/W) − floor(A·W_{i-1}/W) with W_i
/// the running sum of the contribution weights: each part is within 1 wei of its exact share and
/// the parts add up to exactly A, so no rounding remainder is left over or lost.
contract ModelMarketplace is IModelMarketplace, ReentrancyGuard, PullPayment {
    struct Listing {
        address seller;
        uint256 price;
    }

    /// @notice The model tokens this marketplace trades.
    IModelToken public immutable token;
    /// @notice Whether token `tokenId` was sold here before (later sales pay only the royalty to the contributors).
    mapping(uint256 => bool) public soldBefore;

    mapping(uint256 => Listing) private _listings;

    constructor(IModelToken modelToken) {
        token = modelToken;
    }

    /// @inheritdoc IModelMarketplace
    function list(uint256 tokenId, uint256 price) external {
        address holder = token.ownerOf(tokenId);
        if (msg.sender != holder) revert NotHolder(tokenId, msg.sender);
        if (price == 0) revert ZeroPrice();
        if (token.getApproved(tokenId) != address(this) && !token.isApprovedForAll(holder, address(this))) {
            revert NotApproved(tokenId);
        }
        _listings[tokenId] = Listing(holder, price);
        emit Listed(tokenId, holder, price);
    }

    /// @inheritdoc IModelMarketplace
    function cancel(uint256 tokenId) external {
        if (_listings[tokenId].seller != msg.sender) revert NotSeller(tokenId, msg.sender);
        delete _listings[tokenId];
        emit ListingCancelled(tokenId, msg.sender);
    }

    /// @inheritdoc IModelMarketplace
    function buy(uint256 tokenId) external payable nonReentrant {
        Listing memory listing = _listings[tokenId];
        if (listing.seller == address(0)) revert NotListed(tokenId);
        if (msg.value != listing.price) revert WrongPrice(tokenId, listing.price, msg.value);
        address holder = token.ownerOf(tokenId);
        if (holder != listing.seller) revert StaleListing(tokenId, listing.seller, holder);

        delete _listings[tokenId];
        (address[] memory contributors, uint256[] memory amounts, uint256 toSeller) = _split(tokenId, listing.price);
        soldBefore[tokenId] = true;
        for (uint256 i = 0; i < contributors.length; ++i) _credit(tokenId, contributors[i], amounts[i]);
        _credit(tokenId, listing.seller, toSeller);
        emit Sold(tokenId, listing.seller, msg.sender, listing.price, listing.price - toSeller);

        token.safeTransferFrom(listing.seller, msg.sender, tokenId);
    }

    /// @notice Send `payee` everything credited to it. Anyone may trigger it; the money goes to `payee` only.
    function withdrawPayments(address payable payee) public override nonReentrant {
        super.withdrawPayments(payee);
    }

    /// @inheritdoc IModelMarketplace
    function listingOf(uint256 tokenId) external view returns (address seller, uint256 price) {
        Listing memory listing = _listings[tokenId];
        return (listing.seller, listing.price);
    }

    /// @inheritdoc IModelMarketplace
    function split(uint256 tokenId, uint256 price)
        external
        view
        returns (address[] memory contributors, uint256[] memory amounts, uint256 toSeller)
    {
        return _split(tokenId, price);
    }

    function _split(uint256 tokenId, uint256 price)
        private
        view
        returns (address[] memory contributors, uint256[] memory amounts, uint256 toSeller)
    {
        uint256[] memory weights;
        (contributors, weights,) = token.contributorsOf(tokenId);
        (,,, uint256 total, uint256 royaltyBps) = token.modelOf(tokenId);
        uint256 toContributors = soldBefore[tokenId] ? price * royaltyBps / 10_000 : price;
        amounts = new uint256[](contributors.length);
        uint256 running = 0;
        uint256 paid = 0;
        for (uint256 i = 0; i < contributors.length; ++i) {
            running += weights[i];
            uint256 upToHere = toContributors * running / total;
            amounts[i] = upToHere - paid;
            paid = upToHere;
        }
        toSeller = price - toContributors;
    }

    function _credit(uint256 tokenId, address payee, uint256 amount) private {
        if (amount == 0) return;
        _asyncTransfer(payee, amount);
        emit Credited(tokenId, payee, amount);
    }
}
